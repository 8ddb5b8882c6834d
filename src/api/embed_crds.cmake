# Writes a C++ source that embeds the CRD YAML files, so remedyctl validate
# checks Runbooks against exactly the schema the API server enforces.
# Usage: cmake -DCRD_DIR=... -DOUT=... -P embed_crds.cmake
set(content "// Generated from crds/*.yaml by src/api/embed_crds.cmake; do not edit.\n")
string(APPEND content "namespace remedy::api::generated {\n")
foreach(kind runbooks incidents approvals runbookpolicies)
  file(READ ${CRD_DIR}/remedy.dev_${kind}.yaml yaml)
  string(LENGTH "${yaml}" length)
  # Raw string pieces of at most 12000 characters, joined at run time: some
  # compilers limit the length of one string literal.
  string(APPEND content "extern const char* const k_${kind}[];\n")
  string(APPEND content "const char* const k_${kind}[] = {\n")
  set(offset 0)
  while(offset LESS length)
    string(SUBSTRING "${yaml}" ${offset} 12000 piece)
    string(APPEND content "R\"remedycrd(${piece})remedycrd\",\n")
    math(EXPR offset "${offset} + 12000")
  endwhile()
  string(APPEND content "nullptr};\n")
endforeach()
string(APPEND content "}  // namespace remedy::api::generated\n")
file(WRITE ${OUT}.tmp "${content}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
