# kiln_add_model(NAME SOURCES file.cpp ...)
#
# Builds NAME-trace from the model's DSL source, runs it to write NAME.mlir, and compiles that
# with `kiln compile` into the standalone training binary bin/NAME.
function(kiln_add_model name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_executable(${name}-trace ${ARG_SOURCES})
  target_link_libraries(${name}-trace PRIVATE kiln_frontend)
  set(ir ${CMAKE_BINARY_DIR}/models/${name}.mlir)
  set(exe ${CMAKE_BINARY_DIR}/bin/${name})
  add_custom_command(OUTPUT ${ir}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/models
    COMMAND ${name}-trace ${ir}
    DEPENDS ${name}-trace
    COMMENT "Tracing ${name}")
  add_custom_command(OUTPUT ${exe}
    COMMAND kiln compile ${ir} -o ${exe}
    DEPENDS kiln kiln_runtime ${ir}
    COMMENT "Compiling ${name} ahead of time")
  add_custom_target(${name} ALL DEPENDS ${exe})
endfunction()
