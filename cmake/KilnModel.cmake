# kiln_add_model(NAME SOURCES file.cpp ... [TRACE_ARGS arg ...] [KILN_FLAGS flag ...])
# kiln_add_model(NAME FROM other-model [KILN_FLAGS flag ...])
#
# Builds NAME-trace from the model's DSL source, runs it to write models/NAME.mlir, and compiles
# that with `kiln compile` into the standalone training binary bin/NAME. With FROM, reuses
# another model's traced IR (e.g. to compile it with another optimizer via KILN_FLAGS).
function(kiln_add_model name)
  cmake_parse_arguments(ARG "" "FROM" "SOURCES;TRACE_ARGS;KILN_FLAGS" ${ARGN})
  set(models ${CMAKE_BINARY_DIR}/models)
  if(ARG_FROM)
    set(ir ${models}/${ARG_FROM}.mlir)
  else()
    add_executable(${name}-trace ${ARG_SOURCES})
    target_link_libraries(${name}-trace PRIVATE kiln_frontend)
    set(ir ${models}/${name}.mlir)
    add_custom_command(OUTPUT ${ir}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${models}
      COMMAND ${name}-trace ${ir} ${ARG_TRACE_ARGS}
      DEPENDS ${name}-trace
      COMMENT "Tracing ${name}")
  endif()
  set(exe ${CMAKE_BINARY_DIR}/bin/${name})
  add_custom_command(OUTPUT ${exe}
    COMMAND kiln compile ${ir} -o ${exe} ${ARG_KILN_FLAGS}
    DEPENDS kiln kiln_runtime ${ir}
    COMMENT "Compiling ${name} ahead of time")
  add_custom_target(${name} ALL DEPENDS ${exe})
endfunction()
