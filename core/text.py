"""Values quoted in messages: what a person sent, shown safely whatever it is."""


def shown(value, width: int = 40) -> str:
    """repr(value) for a message, at most `width` characters (an int of 5,000 digits has no repr)."""
    try:
        return f"{value!r:.{width}}"
    except ValueError:
        return f"an int of {value.bit_length():,} bits"
