"""The package's version, its one source: read by ``pyproject.toml`` (scikit-build-core's regex
provider), by CMake (compiled into the native core, which must match) and by every module that
records the version in a file."""

__version__ = "0.1.0"
