"""Prompts the IVR plays: the manifest (prompt id -> Russian text) and their build into the 8 kHz mono
files Asterisk plays (``sounds/build/<lang>/upravdolg/<prompt id>.<format>``)."""
