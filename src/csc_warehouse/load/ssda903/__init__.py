"""The second input format, SSDA903 return files, loaded onto the SSD tables: which files
(``files.py``), how they map (``mapping.py``), the loader (``loader.py``)."""

from csc_warehouse.load.ssda903.files import ReturnFile, check_903_drop, scan_903_files
from csc_warehouse.load.ssda903.loader import Ssda903Loader
from csc_warehouse.load.ssda903.mapping import map_903, parse_903_date

__all__ = ["ReturnFile", "Ssda903Loader", "check_903_drop", "map_903", "parse_903_date",
           "scan_903_files"]
