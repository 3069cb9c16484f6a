# Compiles text files (the built-in policy sets) into the library as string constants, so a
# binary needs no data files beside it.
#
# tandem_embed(OUTPUT out.cpp NAMESPACE ns FUNCTION fn FILES a.yaml b.yaml) generates
#   std::string_view ns::fn(std::string_view stem)  // "" when no file has that stem
# and std::vector<std::string_view> ns::fn_names(). With KEY NAME the files are looked up by
# their whole file name ("app.js") instead of the stem ("app"). Text files only.
set(_TANDEM_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/TandemEmbedScript.cmake")

function(tandem_embed)
  cmake_parse_arguments(E "" "OUTPUT;NAMESPACE;FUNCTION;KEY" "FILES" ${ARGN})
  if(NOT E_KEY)
    set(E_KEY NAME_WE)
  endif()
  add_custom_command(
    OUTPUT "${E_OUTPUT}"
    COMMAND "${CMAKE_COMMAND}" -DOUTPUT=${E_OUTPUT} -DNAMESPACE=${E_NAMESPACE} -DFUNCTION=${E_FUNCTION} -DKEY=${E_KEY}
            "-DFILES=${E_FILES}" -P "${_TANDEM_EMBED_SCRIPT}"
    DEPENDS ${E_FILES} "${_TANDEM_EMBED_SCRIPT}"
    COMMENT "Embedding ${E_FUNCTION}: ${E_FILES}"
    VERBATIM)
endfunction()
