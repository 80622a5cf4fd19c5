#!/usr/bin/env bash
# Measures predict throughput and latency of `yoloplane serve` against the
# same model run in-process, as reported in docs/benchmarks.md.
#
# Usage: scripts/bench-predict.sh [MODEL] [IMAGE] [DURATION]
# Starts a server on 127.0.0.1:18090 with a temporary data directory and
# stops it when done. Run `make build` first.
set -euo pipefail
cd "$(dirname "$0")/.."

model=${1:-../shared/models/yolov8n_int8_640.onnx}
image=${2:-../shared/images/bus.jpg}
duration=${3:-20s}
addr=127.0.0.1:18090
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT

./bin/yoloplane serve --listen "$addr" --data "$data" --model "$model" >"$data/serve.out" 2>"$data/serve.err" &
pid=$!
for _ in $(seq 120); do
	curl -sf "http://$addr/health" >/dev/null && break
	sleep 0.5
done
key=$(cat "$data/admin.key")
id=$(curl -sf -H "Authorization: Bearer $key" "http://$addr/api/models" | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
url="http://$addr/api/models/$id/predict"

echo "== concurrency 1, with the raw in-process run first"
./bin/yoloplane bench --url "$url" --file "$image" --api-key "$key" --concurrency 1 --duration "$duration" --model "$model" 2>/dev/null
for c in 2 4; do
	echo "== concurrency $c"
	./bin/yoloplane bench --url "$url" --file "$image" --api-key "$key" --concurrency "$c" --duration "$duration" 2>/dev/null
done
