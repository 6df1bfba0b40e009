# find_package(kiln): an installed kiln. Gives
#   kiln::kiln        the compiler (an imported executable)
#   kiln::trace       the DSL: headers and libkiln_trace.so, what a tracing program links
#   kiln::model_main  main() for a model file written with KILN_MODEL
#   kiln_add_model(NAME SOURCES f.cpp [KILN_FLAGS ...])  source -> traced IR -> training binary
get_filename_component(_kiln_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
foreach(_kiln_file bin/kiln include/kiln/kiln.h lib/libkiln_trace.so lib/libkiln_model_main.a
                   lib/libkiln_runtime.a)
  if(NOT EXISTS "${_kiln_prefix}/${_kiln_file}")
    set(kiln_FOUND FALSE)
    set(kiln_NOT_FOUND_MESSAGE "kiln at ${_kiln_prefix} is incomplete: ${_kiln_file} is missing")
    return()
  endif()
endforeach()

if(NOT TARGET kiln::kiln)
  add_executable(kiln::kiln IMPORTED)
  set_target_properties(kiln::kiln PROPERTIES IMPORTED_LOCATION "${_kiln_prefix}/bin/kiln")
  add_library(kiln::trace SHARED IMPORTED)
  set_target_properties(kiln::trace PROPERTIES
    IMPORTED_LOCATION "${_kiln_prefix}/lib/libkiln_trace.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_kiln_prefix}/include"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
  add_library(kiln::model_main STATIC IMPORTED)
  set_target_properties(kiln::model_main PROPERTIES
    IMPORTED_LOCATION "${_kiln_prefix}/lib/libkiln_model_main.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_kiln_prefix}/include")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/KilnModel.cmake")
