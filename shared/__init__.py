"""Common code of the V-Chat functions. Importing it does no I/O and loads no cloud client."""
