"""moto's Athena, made to run the queries it is sent: in DuckDB, over the data in moto's S3.

moto records each query and walks it QUEUED -> RUNNING -> SUCCEEDED but executes
nothing. This hooks its ``start_query_execution`` so that the very text MediaSync
sends runs in DuckDB, with the effects Athena would have:

- ``CREATE EXTERNAL TABLE ... SymlinkTextInputFormat ... LOCATION`` reads the
  ``symlink.txt`` there, fetches the data files it names from S3 and makes a view with
  the table's columns (CSV: every column a string; Parquet: by name);
- ``CREATE TABLE t WITH (...) AS SELECT ...`` stores the SELECT's rows;
- ``UNLOAD (SELECT ..., p) TO 's3://...' WITH (... partitioned_by = ARRAY['p'])``
  writes gzip text files under ``TO/p=value/``;
- a ``SELECT`` queues its rows as the execution's results (header row first, as
  Athena answers GetQueryResults).

Only the statements a sync plan sends are understood; anything else fails the test.

botocore 1.44 speaks rest-json to Athena; moto 5.2.6 understands only Athena's JSON 1.1
protocol (``X-Amz-Target: AmazonAthena.<Operation>``) and answers anything else
"404 Not yet implemented". :func:`install` has botocore load Athena's model with the
JSON 1.1 protocol (same operations and shapes) for the test's duration.
"""

from __future__ import annotations

import copy
import gzip
import re
import tempfile
from pathlib import Path
from typing import Any

from botocore.loaders import Loader
from moto.athena.models import AthenaBackend, QueryResults

from mediasync.manifests.plan_engine import duckdb_connection
from mediasync.manifests.sync_sql import literal

_EXTERNAL = re.compile(r"CREATE EXTERNAL TABLE `(\w+)`\.`(\w+)` \((.*?)\) ROW FORMAT SERDE '([^']+)'.*"
                       r"LOCATION '([^']+)'", re.S)
_CTAS = re.compile(r'CREATE TABLE "(\w+)"\."(\w+)" WITH \(.*?\) AS (SELECT .*)', re.S)
_UNLOAD = re.compile(r"UNLOAD \((SELECT .*)\) TO '([^']+)' WITH \(.*partitioned_by = ARRAY\['(\w+)'\]\)", re.S)


class AthenaEmulation:
    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self.folder = Path(tempfile.mkdtemp(prefix="athena-emulation-"))
        self._connection = duckdb_connection(self.folder)
        self.db = self._connection.__enter__()
        self.queries: list[str] = []

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def run(self, query: str) -> QueryResults | None:
        self.queries.append(query)
        if query.startswith("CREATE DATABASE IF NOT EXISTS"):
            name = query.split("`")[1]
            self.db.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
            return None
        if query.startswith("DROP TABLE IF EXISTS"):
            schema, table = query.split("`")[1], query.split("`")[3]
            kinds = self.db.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND "
                                    "table_name = ?", [schema, table]).fetchall()
            for (kind,) in kinds:
                self.db.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} "{schema}"."{table}"')
            return None
        if match := _EXTERNAL.match(query):
            self._external_table(*match.groups())
            return None
        if match := _CTAS.match(query):
            schema, table, select = match.groups()
            self.db.execute(f'CREATE TABLE "{schema}"."{table}" AS {select}')
            return None
        if match := _UNLOAD.match(query):
            self._unload(*match.groups())
            return None
        if query.startswith("SELECT "):
            cursor = self.db.execute(query)
            names = [column[0] for column in cursor.description]
            rows = [names] + [["" if value is None else str(value) for value in row] for row in cursor.fetchall()]
            return QueryResults(rows=[{"Data": [{"VarCharValue": value} for value in row]} for row in rows],
                                column_info=[])
        raise AssertionError(f"the Athena emulation does not know this statement: {query[:200]}")

    def _external_table(self, schema: str, table: str, columns: str, serde: str, location: str) -> None:
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        listed = self.s3.get_object(Bucket=bucket, Key=prefix + "symlink.txt")["Body"].read().decode().split()
        paths = []
        for number, url in enumerate(listed):
            data_bucket, _, key = url.removeprefix("s3://").partition("/")
            path = self.folder / f"{table}-{number}-{key.rsplit('/', 1)[-1]}"
            path.write_bytes(self.s3.get_object(Bucket=data_bucket, Key=key)["Body"].read())
            paths.append(literal(str(path)))
        names = re.findall(r"`(\w+)` (\w+)", columns)
        files = "[" + ", ".join(paths) + "]"
        if "OpenCSVSerde" in serde:
            types = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name, _ in names) + "}"
            source = (f"read_csv({files}, columns = {types}, header = false, auto_detect = false, quote = '\"', "
                      "escape = '\"', compression = 'gzip')")
        else:
            source = f"(SELECT {', '.join(name for name, _ in names)} FROM read_parquet({files}))"
        self.db.execute(f'CREATE VIEW "{schema}"."{table}" AS SELECT * FROM {source}')

    def _unload(self, select: str, location: str, partition: str) -> None:
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        assert not self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents"), "UNLOAD needs an empty TO"
        groups: dict[str, list[str]] = {}
        for *values, value in self.db.execute(select).fetchall():
            groups.setdefault(value, []).append(",".join(values))
        for value, lines in groups.items():
            # Athena writes several files per partition; two show the manifest naming them all.
            for number in range(2):
                body = gzip.compress("".join(line + "\n" for line in lines[number::2]).encode())
                self.s3.put_object(Bucket=bucket, Key=f"{prefix}{partition}={value}/part-{number}.gz", Body=body)


def install(monkeypatch: Any, s3: Any) -> AthenaEmulation:
    """Make moto's Athena run what it is sent (until the test ends)."""
    emulation = AthenaEmulation(s3)
    original = AthenaBackend.start_query_execution

    def start_query_execution(backend: AthenaBackend, query: str, *args: Any, **kwargs: Any) -> str:
        results = emulation.run(query)
        if results is not None:
            backend.query_results_queue.append(results)
        return original(backend, query, *args, **kwargs)

    monkeypatch.setattr(AthenaBackend, "start_query_execution", start_query_execution)
    speak_json_to_moto(monkeypatch)
    return emulation


def speak_json_to_moto(monkeypatch: Any) -> None:
    """Athena clients made from now on use the JSON 1.1 protocol moto parses."""
    load_service_model = Loader.load_service_model

    def load(self: Loader, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = load_service_model(self, service_name, type_name, api_version)
        if service_name == "athena" and type_name == "service-2" and model["metadata"].get("protocol") != "json":
            model = copy.deepcopy(model)
            model["metadata"].update(protocol="json", protocols=["json"], jsonVersion="1.1",
                                     targetPrefix="AmazonAthena")
        return model

    monkeypatch.setattr(Loader, "load_service_model", load)
