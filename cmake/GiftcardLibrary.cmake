# giftcard_cc_library(NAME <name> [SRCS ...] [DEPS ...] [PRIVATE_DEPS ...])
#
# A library of libs/ (as Abseil's absl_cc_library): the target giftcard_<name>
# and its alias giftcard::<name>, headers included as "<dir>/<file>.h" from
# libs/, the project's warnings, DEPS linked PUBLIC and PRIVATE_DEPS PRIVATE.
# Without SRCS the library is headers only (an INTERFACE library).
# TARGET and INCLUDE_DIR override the target's name and the include root (the
# services' layers use them: cmake/Layers.cmake).
function(giftcard_cc_library)
  cmake_parse_arguments(ARG "" "NAME;TARGET;INCLUDE_DIR" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_NAME)
    message(FATAL_ERROR "giftcard_cc_library needs a NAME")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET giftcard_${ARG_NAME})
  endif()
  if(NOT ARG_INCLUDE_DIR)
    set(ARG_INCLUDE_DIR ${PROJECT_SOURCE_DIR}/libs)
  endif()
  if(NOT ARG_SRCS)
    add_library(${ARG_TARGET} INTERFACE)
    add_library(giftcard::${ARG_NAME} ALIAS ${ARG_TARGET})
    target_include_directories(${ARG_TARGET} INTERFACE ${ARG_INCLUDE_DIR})
    target_link_libraries(${ARG_TARGET} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${ARG_TARGET} ${ARG_SRCS})
  add_library(giftcard::${ARG_NAME} ALIAS ${ARG_TARGET})
  target_include_directories(${ARG_TARGET} PUBLIC ${ARG_INCLUDE_DIR})
  target_compile_options(${ARG_TARGET} PRIVATE ${GIFTCARD_WARNINGS})
  target_link_libraries(${ARG_TARGET} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
