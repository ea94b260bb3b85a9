"""Knowledge documents turned into searchable text: extraction per document kind, then chunking."""
