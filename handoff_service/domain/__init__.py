"""Pure domain rules (risk, queue order, expected wait, shift calendar): data in, data out."""
