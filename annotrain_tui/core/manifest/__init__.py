"""Registration manifests (Encord's JSON and CSV upload formats).

Validate with positions (line, column, JSON pointer) and stable codes, convert CSV ↔ JSON,
split into upload-sized chunks, create from templates or URL lists, and apply quick fixes.
Headless: nothing here imports Textual.

    from annotrain_tui.core.manifest import validate_path
    result = validate_path("manifest.json", provider="aws")
    for d in result.diagnostics:
        print(d.render("manifest.json"))
"""

from annotrain_tui.core.manifest.convert import (
    Conversion,
    convert_file,
    convert_text,
    dump_json,
)
from annotrain_tui.core.manifest.diagnostics import CODES, Diagnostic, ValidationResult
from annotrain_tui.core.manifest.fixes import (
    Fix,
    fixes_for,
    merge_duplicate_sections,
    remove_duplicate_keys,
    remove_element,
    remove_trailing_commas,
    rename_key,
    renumber_object_urls,
    set_boolean,
    set_skip_duplicate_urls,
    strip_angle_brackets,
    strip_bom,
    trim_url,
    unquote_number,
)
from annotrain_tui.core.manifest.models import (
    AudioItem,
    AudioMetadata,
    DicomSeriesItem,
    ImageGroupItem,
    ImageItem,
    ImageMetadata,
    Manifest,
    NiftiItem,
    PdfItem,
    PdfMetadata,
    TextItem,
    TextMetadata,
    VideoItem,
    VideoMetadata,
)
from annotrain_tui.core.manifest.split import SplitResult, chunk, split_file
from annotrain_tui.core.manifest.templates import DATA_TYPES, from_urls, new_template
from annotrain_tui.core.manifest.urls import PROVIDERS
from annotrain_tui.core.manifest.validate import (
    Parsed,
    detect_format,
    parse_bytes,
    parse_path,
    parse_text,
    validate_bytes,
    validate_path,
    validate_text,
)

__all__ = [
    "CODES", "DATA_TYPES", "PROVIDERS", "AudioItem", "AudioMetadata", "Conversion", "Diagnostic", "DicomSeriesItem",
    "Fix", "ImageGroupItem", "ImageItem", "ImageMetadata", "Manifest", "NiftiItem", "Parsed", "PdfItem",
    "PdfMetadata", "SplitResult", "TextItem", "TextMetadata", "ValidationResult", "VideoItem", "VideoMetadata",
    "chunk", "convert_file", "convert_text", "detect_format", "dump_json", "fixes_for", "from_urls",
    "merge_duplicate_sections", "new_template", "parse_bytes", "parse_path", "parse_text", "remove_duplicate_keys",
    "remove_element", "remove_trailing_commas", "rename_key", "renumber_object_urls", "set_boolean",
    "set_skip_duplicate_urls", "split_file", "strip_angle_brackets", "strip_bom", "trim_url", "unquote_number",
    "validate_bytes", "validate_path", "validate_text",
]
