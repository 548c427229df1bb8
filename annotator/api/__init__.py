"""The REST API under /api/v1/: token auth, permissions, serializers, filters, views, errors."""
