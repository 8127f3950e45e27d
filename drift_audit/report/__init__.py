"""Report renderers: json (+ schema.json), terminal (rich), html (+ html_parts), and the
contact sheet; common holds what they share (verdict wording, cell levels, thumbnails)."""
