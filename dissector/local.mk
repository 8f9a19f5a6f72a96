# dissector: the Wireshark/tshark Lua plugin naming the mirror commands and
# their fields (tests/lua-dissector.test runs it in tshark).
EXTRA_DIST += dissector/local.mk dissector/README.md dissector/mirror.lua
