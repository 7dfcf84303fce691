"""Deliver: turn analyses into what people read (terminal report) and what programs read (files)."""
