#!/usr/bin/python3
"""Prints a TCP port on 127.0.0.1 that nothing is bound to, chosen at random
below the kernel's ephemeral range (net.ipv4.ip_local_port_range). A port
from bind(0) comes from that range, which outgoing connections draw from
too, so a parallel test's client could take it before the server binds it.
The C++ tests choose theirs the same way (tests/support/child_process.h)."""
import random
import socket

with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    low = int(f.read().split()[0])
while True:
    port = random.randint(10000, max(11000, low) - 1)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
