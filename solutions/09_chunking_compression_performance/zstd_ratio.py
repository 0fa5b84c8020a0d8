zstd = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
zstd_ratio = exercise_chunk.nbytes / len(zstd.encode(exercise_chunk))

# ---- hidden tests ----
import math as _math

import numcodecs as _numcodecs
import numpy as _np

_chunk = _np.ascontiguousarray(exercise_chunk)
_encoded = _numcodecs.Blosc(cname="zstd", clevel=5, shuffle=_numcodecs.Blosc.SHUFFLE).encode(_chunk)
assert _math.isclose(float(zstd_ratio), _chunk.nbytes / len(_encoded), rel_tol=1e-3)
