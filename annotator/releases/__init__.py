"""Dataset releases: numbered, immutable snapshots of a corpus, built into files.

Pure modules (no Django): `splits` (train/validation/test by article), `records` (chunks of
rows -> typed columns), `files` (Parquet, JSONL.gz, CSV.gz writers and their schema), `card`
(the dataset card README.md) and `diff` (what changed between two releases). With Django:
`building` (cutting a release, building it from the database into a storage) and `tasks`
(the background task). Web pages live in `annotator/views/releases.py`, the API in
`annotator/api/releases.py`, the command in `manage.py release`.
"""
