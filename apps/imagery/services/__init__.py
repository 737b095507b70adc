"""Every write of the imagery app. Submodules: `settings` (the organization's imaging settings), `dicom` (DICOM
import with de-identification), `tiles` (pyramids of large images), `geo` (georeferenced images)."""
