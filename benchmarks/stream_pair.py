"""Training on a stream, one build: the study's CNN for two epochs of 20,000 fresh series in blocks
of 5,000 (``fit(Simulations(...))``, default threads), after a warm-up; prints series per second as
JSON. Run it alternately with another build on the path to compare the two side by side:

    for i in 1 2 3; do python benchmarks/stream_pair.py; PYTHONPATH=/tmp/oldpkg python benchmarks/stream_pair.py; done
"""

import json
import os
import time

import fhn_inverse as fi


def main() -> dict:
    model = fi.InverseMap.cnn(seed=0)
    model.fit(fi.Simulations(1000, block=500, seed=2), epochs=1, progress=False)  # warm-up, and the network built
    start = time.perf_counter()
    model.fit(fi.Simulations(20000, block=5000, seed=1), epochs=2, progress=False)
    out = {"build": fi.__file__, "series_per_s": 40000 / (time.perf_counter() - start), "load": os.getloadavg()[0]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
