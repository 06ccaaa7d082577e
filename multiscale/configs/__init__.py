"""TOML configs of the one-job commands (``multiscale train``, ``multiscale learn``).

Each module holds a pydantic model of its file and the function its command
calls (``*_from_config``); all of them load through
:func:`multiscale.config.load_toml`, the loader run configs use, so every
error is one line naming the file and the key (did-you-mean included).
"""
