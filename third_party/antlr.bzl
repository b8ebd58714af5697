"""Compiler flags for code that includes the ANTLR 4 C++ runtime headers."""

# -fno-char8_t: the runtime headers and the generated code use u8"..." literals
# as std::string, which C++20 otherwise types as char8_t.
ANTLR_COPTS = [
    "-isystem",
    "/usr/include/antlr4-runtime",
    "-fno-char8_t",
    "-Wno-attributes",
]
