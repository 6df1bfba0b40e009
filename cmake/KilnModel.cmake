# kiln_add_model(NAME SOURCES file.cpp ... [TRACE_ARGS arg ...] [KILN_FLAGS flag ...])
# kiln_add_model(NAME FROM other-model [KILN_FLAGS flag ...])
#
# Builds NAME-trace from the model's DSL source (a KILN_MODEL file, or one with its own main),
# runs it to write models/NAME.mlir, and compiles that with `kiln compile` into the standalone
# training binary NAME, in CMAKE_RUNTIME_OUTPUT_DIRECTORY when set, else in bin/ of the current
# binary folder (the target NAME builds it). With FROM, reuses another model's traced IR (e.g. to compile it with another
# optimizer via KILN_FLAGS). Works in kiln's own build and, through find_package(kiln), in any
# other project: both define the targets kiln::kiln, kiln::trace and kiln::model_main.
function(kiln_add_model name)
  cmake_parse_arguments(ARG "" "FROM" "SOURCES;TRACE_ARGS;KILN_FLAGS" ${ARGN})
  if(NOT ARG_FROM AND NOT ARG_SOURCES)
    message(FATAL_ERROR "kiln_add_model(${name}): give SOURCES (the model's .cpp files) or FROM")
  endif()
  set(models ${CMAKE_BINARY_DIR}/models)
  if(ARG_FROM)
    set(ir ${models}/${ARG_FROM}.mlir)
  else()
    add_executable(${name}-trace ${ARG_SOURCES})
    target_link_libraries(${name}-trace PRIVATE kiln::model_main kiln::trace)
    set(ir ${models}/${name}.mlir)
    add_custom_command(OUTPUT ${ir}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${models}
      COMMAND ${name}-trace ${ir} ${ARG_TRACE_ARGS}
      DEPENDS ${name}-trace
      COMMENT "Tracing ${name}")
  endif()
  if(CMAKE_RUNTIME_OUTPUT_DIRECTORY)
    set(exe ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/${name})
  else()
    set(exe ${CMAKE_CURRENT_BINARY_DIR}/bin/${name})
  endif()
  set(needs $<TARGET_FILE:kiln::kiln> ${ir})
  if(TARGET kiln_runtime)
    list(APPEND needs kiln_runtime)  # kiln's own build: relink when the runtime changes
  endif()
  add_custom_command(OUTPUT ${exe}
    COMMAND $<TARGET_FILE:kiln::kiln> compile ${ir} -o ${exe} ${ARG_KILN_FLAGS}
    DEPENDS ${needs}
    COMMENT "Compiling ${name} ahead of time")
  add_custom_target(${name} ALL DEPENDS ${exe})
endfunction()
