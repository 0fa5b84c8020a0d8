rows_per_chunk = json.loads(bands[".zarray"])["chunks"][0]
row_key = f"{1000 // rows_per_chunk}.0"
row_cost = {"key": row_key, "bytes": bands[row_key][2]}

# ---- hidden tests ----
import json as _json

_rows = _json.loads(bands[".zarray"])["chunks"][0]
_key = str(1000 // _rows) + ".0"
assert row_cost["key"] == _key
assert row_cost["bytes"] == bands[_key][2]
