"""ameide-release: cut, package, publish and announce releases of the AMEIDE operators chart."""

__version__ = "0.1.0"
