"""What only the node under test knows, for the schemathesis run of scripts/schemathesis.sh.

Docs/openapi.yaml is exact about shapes; three rules depend on the deployment or on values the server
issues, and no schema can state them:

- a numeric quorum above the node's N is a 400: such schema-valid values are dropped;
- a causal context is opaque: a schema-valid context header is replaced by one the node issued;
- `cursor` and `after` exclude each other (400 `bad_cursor`): cases with both are dropped.

Values that break the schema are left as they are, so negative tests still send them.
"""

import os
import re
import urllib.request

import schemathesis

BASE = os.environ["DHRT_URL"]
N = int(os.environ.get("DHRT_N", "1"))
QUORUM_HEADERS = ("X-Dhrt-R", "X-Dhrt-W", "X-Dhrt-PW", "X-Dhrt-Consistency")
CONTEXT = re.compile(r"^[A-Za-z0-9_-]+$")


def _issued_context() -> str:
    request = urllib.request.Request(f"{BASE}/v1/kv/schemathesis/context", data=b"v", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Dhrt-Context"]


ISSUED = _issued_context()


# Case hooks, not per-part ones: the coverage phase applies only these.
@schemathesis.hook
def filter_case(context, case):
    headers = case.headers or {}
    for name in QUORUM_HEADERS:
        value = headers.get(name)
        if isinstance(value, str) and value.isdigit() and int(value) > N:
            return False
    query = case.query or {}
    return not ("cursor" in query and "after" in query)


@schemathesis.hook
def map_case(context, case):
    for name in ("X-Dhrt-Context", "If-Match"):
        value = (case.headers or {}).get(name)
        if isinstance(value, str) and value != "*" and CONTEXT.match(value):
            case.headers[name] = ISSUED
    return case
