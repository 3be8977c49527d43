"""The IVR as a process AGI (notify.py), for Asterisk to run; installed by `upravdolg asterisk up`."""
