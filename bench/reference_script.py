"""The reference for vmigrate's benchmark: the migration script a user writes from the official
client docs, without vmigrate. qdrant-client scrolls the collection in pages of 1000 points with
vectors and payload; pymilvus creates the collection with MilvusClient's schema API (int64 primary
key, one field per vector, dynamic field on so payload keys land in $meta) and inserts each page
with MilvusClient.insert; then, as the docs do once the data is in, it creates an AUTOINDEX index
per vector (SPARSE_INVERTED_INDEX for a sparse one) and loads the collection (a real Milvus 2.3
loads nothing without an index on the vector field). Both calls wait: create_index until the
index is built, load_collection until the collection is loaded. No explicit flush (the
MilvusClient docs have none). Written plainly and fairly: no tricks either way. bench/run times it
as a child process and takes the moment each line below arrives.

Usage: python bench/reference_script.py --source URL --target URL --collection NAME
       [--target-name DST]
Prints the number of points inserted once the last insert returned, then `loaded` once the
index is built and the collection loaded.
"""

import argparse

from pymilvus import DataType, MilvusClient
from qdrant_client import QdrantClient, models

METRICS = {models.Distance.COSINE: "COSINE", models.Distance.DOT: "IP",
           models.Distance.EUCLID: "L2"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--target-name")
    args = ap.parse_args()
    name = args.collection
    target = args.target_name or name

    qdrant = QdrantClient(url=args.source)
    milvus = MilvusClient(uri=args.target)

    # The Milvus collection, from the Qdrant collection's configuration.
    params = qdrant.get_collection(name).config.params
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field(field_name="id", datatype=DataType.INT64, is_primary=True)
    index_params = milvus.prepare_index_params()
    unnamed = isinstance(params.vectors, models.VectorParams)
    dense = {"vector": params.vectors} if unnamed else dict(params.vectors or {})
    for field, vp in dense.items():
        schema.add_field(field_name=field, datatype=DataType.FLOAT_VECTOR, dim=vp.size)
        index_params.add_index(field_name=field, index_type="AUTOINDEX",
                               metric_type=METRICS[vp.distance])
    sparse = list((params.sparse_vectors or {}).keys())
    for field in sparse:
        schema.add_field(field_name=field, datatype=DataType.SPARSE_FLOAT_VECTOR)
        index_params.add_index(field_name=field, index_type="SPARSE_INVERTED_INDEX",
                               metric_type="IP")
    milvus.create_collection(collection_name=target, schema=schema)

    # Scroll every point and insert each page.
    total = 0
    offset = None
    while True:
        points, offset = qdrant.scroll(collection_name=name, limit=1000, offset=offset,
                                       with_payload=True, with_vectors=True)
        rows = []
        for p in points:
            row = dict(p.payload or {})
            row["id"] = p.id
            if unnamed:
                row["vector"] = p.vector
            else:
                for field, v in p.vector.items():
                    if isinstance(v, models.SparseVector):
                        row[field] = dict(zip(v.indices, v.values))
                    else:
                        row[field] = v
            rows.append(row)
        if rows:
            total += milvus.insert(collection_name=target, data=rows)["insert_count"]
        if offset is None:
            break
    print(total, flush=True)

    # The data is in: index it, then load the collection so it can be searched.
    milvus.create_index(collection_name=target, index_params=index_params)
    milvus.load_collection(collection_name=target)
    print("loaded", flush=True)


if __name__ == "__main__":
    main()
