// LoomText: tokenizers for Loom (docs/tokenizers.md). Standard library only, like LoomCore.
