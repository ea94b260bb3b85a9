"""A loopback fake of one Pinecone dense index (cosine) that the real `pinecone` SDK talks to.

Data plane, as the SDK's `Index` calls it: `POST /vectors/upsert`, `POST /query` (top k by
cosine, metadata filters with $eq $ne $in $nin $gt $gte $lt $lte $exists $and $or),
`POST /vectors/delete` (ids, filter or deleteAll) and `POST /describe_index_stats`; control plane:
`GET /indexes/{name}`, which `Pinecone.index(name=...)` calls to find the index host (here the
same server). Requests without the `Api-Key` header are refused with 401, vectors of another
dimension with 400, as the service does. Failures can be queued per route with `script()`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tests.fakes.loopback import Answer, LoopbackServer, Recorded

API_KEY = "pc-test-loopback"
UPSERT = r"/vectors/upsert"
QUERY = r"/query"
DELETE = r"/vectors/delete"
STATS = r"/describe_index_stats"
DESCRIBE = r"/indexes/(?P<name>[^/]+)"

_COMPARE = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a is not None and a > b,
    "$gte": lambda a, b: a is not None and a >= b,
    "$lt": lambda a, b: a is not None and a < b,
    "$lte": lambda a, b: a is not None and a <= b,
    "$in": lambda a, b: a in b,
    "$nin": lambda a, b: a not in b,
    "$exists": lambda a, b: (a is not None) == b,
}


def matches(metadata: dict[str, Any], expression: dict[str, Any]) -> bool:
    """Pinecone's metadata filter language (top-level keys are ANDed; a bare value is $eq)."""
    for key, condition in expression.items():
        if key == "$and":
            if not all(matches(metadata, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(metadata, part) for part in condition):
                return False
        else:
            operators = condition if isinstance(condition, dict) else {"$eq": condition}
            value = metadata.get(key)
            if not all(_COMPARE[op](value, operand) for op, operand in operators.items()):
                return False
    return True


def _error(status: int, message: str) -> Answer:
    return Answer.json({"code": 3 if status == 400 else 16, "message": message}, status=status)


class PineconeServer(LoopbackServer):
    def __init__(self, *, name: str = "tagen-knowledge", dimension: int) -> None:
        super().__init__()
        self.name = name
        self.dimension = dimension
        self.namespaces: dict[str, dict[str, tuple[list[float], dict[str, Any]]]] = {}
        for method, pattern, handler in (
            ("GET", DESCRIBE, self._describe),
            ("POST", UPSERT, self._upsert),
            ("POST", QUERY, self._query),
            ("POST", DELETE, self._delete),
            ("POST", STATS, self._stats),
        ):
            self.route(method, pattern, self._authorized(handler))

    def _authorized(self, handler: Any) -> Any:
        def checked(request: Recorded, match: re.Match[str]) -> Answer:
            if request.headers.get("api-key") != API_KEY:
                return Answer.json(
                    {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}},
                    status=401,
                )
            return handler(request, match)

        return checked

    def _describe(self, request: Recorded, match: re.Match[str]) -> Answer:
        if match["name"] != self.name:
            return Answer.json(
                {"error": {"code": "NOT_FOUND", "message": f"Resource {match['name']} not found"}},
                status=404,
            )
        return Answer.json(
            {
                "name": self.name,
                "host": self.url,
                "status": {"ready": True, "state": "Ready"},
                "deletion_protection": "disabled",
                "schema": {
                    "fields": {
                        "values": {
                            "type": "dense_vector",
                            "dimension": self.dimension,
                            "metric": "cosine",
                        }
                    }
                },
                "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
            }
        )

    def _space(
        self, body: dict[str, Any], *, create: bool = False
    ) -> dict[str, tuple[list[float], dict[str, Any]]]:
        """The request's namespace; only an upsert creates one (as the service does)."""
        name = body.get("namespace") or "__default__"
        if create:
            return self.namespaces.setdefault(name, {})
        return self.namespaces.get(name, {})

    def _upsert(self, request: Recorded, _: re.Match[str]) -> Answer:
        body = request.body or {}
        vectors = body.get("vectors") or []
        for vector in vectors:
            if len(vector["values"]) != self.dimension:
                return _error(
                    400,
                    f"Vector dimension {len(vector['values'])} does not match the dimension "
                    f"of the index {self.dimension}",
                )
        space = self._space(body, create=True)
        for vector in vectors:
            space[vector["id"]] = (list(vector["values"]), dict(vector.get("metadata") or {}))
        return Answer.json({"upsertedCount": len(vectors)})

    def _query(self, request: Recorded, _: re.Match[str]) -> Answer:
        body = request.body or {}
        query = body.get("vector") or []
        if len(query) != self.dimension:
            return _error(
                400,
                f"Vector dimension {len(query)} does not match the dimension of the index "
                f"{self.dimension}",
            )
        expression = body.get("filter") or {}
        scored = []
        for vector_id, (values, metadata) in self._space(body).items():
            if not matches(metadata, expression):
                continue
            norm = math.sqrt(sum(v * v for v in values) * sum(q * q for q in query)) or 1.0
            scored.append(
                (sum(v * q for v, q in zip(values, query, strict=True)) / norm, vector_id)
            )
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        space = self._space(body)
        found = [
            {
                "id": vector_id,
                "score": score,
                "values": space[vector_id][0] if body.get("includeValues") else [],
                **({"metadata": space[vector_id][1]} if body.get("includeMetadata") else {}),
            }
            for score, vector_id in scored[: int(body["topK"])]
        ]
        return Answer.json(
            {"matches": found, "namespace": body.get("namespace", ""), "usage": {"readUnits": 1}}
        )

    def _delete(self, request: Recorded, _: re.Match[str]) -> Answer:
        body = request.body or {}
        space = self._space(body)
        if body.get("deleteAll"):
            space.clear()
        elif body.get("ids"):
            for vector_id in body["ids"]:
                space.pop(vector_id, None)
        elif body.get("filter"):
            for vector_id in [i for i, (_, m) in space.items() if matches(m, body["filter"])]:
                del space[vector_id]
        else:
            return _error(400, "Delete request must specify ids, filter or deleteAll")
        return Answer.json({})

    def _stats(self, request: Recorded, _: re.Match[str]) -> Answer:
        counts = {name: {"vectorCount": len(space)} for name, space in self.namespaces.items()}
        return Answer.json(
            {
                "namespaces": counts,
                "dimension": self.dimension,
                "indexFullness": 0.0,
                "totalVectorCount": sum(c["vectorCount"] for c in counts.values()),
                "metric": "cosine",
                "vectorType": "dense",
            }
        )
