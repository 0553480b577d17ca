"""Latent Lab benchmarks (scripts, not tests): ``python -m bench`` runs every part, prints a table per
part and records the latest results in ``bench/RESULTS.md``. Every comparison runs both sides in the
same process, interleaved or back to back, and reports their ratio. See ``bench/__main__.py``."""

#: part name -> module (imported only when the part runs)
PARTS: dict[str, str] = {
    "training": "bench.training_throughput",
    "quality": "bench.time_to_quality",
    "colourquality": "bench.colour_quality",
    "decode": "bench.decode_latency",
    "dashboard": "bench.dashboard_latency",
    "coldstart": "bench.cold_start",
    "memory": "bench.memory",
    "classroom": "bench.classroom",
    "live": "bench.live_decode",
    "fuzz": "bench.fuzz_uploads",
    "links": "bench.fuzz_links",
    "coldpages": "bench.cold_pages",
    "upload": "bench.upload_zip",
    "bigfolder": "bench.big_folder",
    "colour": "bench.colour_pages",
    "map": "bench.map_scale",
    "static": "bench.static_lesson",
    "projection": "bench.projection",
    "moments": "bench.learning_moments",
    "visits": "bench.visits",
}
