#!/usr/bin/env bash
# test_sbr.sh on dual-stack pods (an IPv4 and an IPv6 address from host-local): the reference sbr gives
# each address a table and a rule of its own, and copies the IPv6 connected and link-local routes into
# every table; specs/sbr.yaml must do exactly the same.
LAB_IPV6=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/test_sbr.sh" "$@"
