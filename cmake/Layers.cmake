# One library per layer of a service (DESIGN.md, "Code layout"). Headers are
# included from the repository root ("services/code_vault/domain/model.h"),
# so two services' headers can never be confused.
#
# giftcard_domain_library(<name> SOURCES ... LIBS ...): a service's domain/.
#   Links only what it is given (Abseil and giftcard::errors, money, codes,
#   validate, log), and every source is compiled with cmake/domain_guard.h
#   forced in, which poisons the identifiers of gRPC, protobuf, libpqxx and
#   hiredis: including any of them in domain/ fails the build.
# giftcard_layer_library(<name> SOURCES ... LIBS ...): storage/, peers/, api/.
function(giftcard_layer_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  giftcard_cc_library(NAME ${name} TARGET ${name} INCLUDE_DIR ${PROJECT_SOURCE_DIR}
                      SRCS ${ARG_SOURCES} DEPS ${ARG_LIBS})
endfunction()

function(giftcard_domain_library name)
  giftcard_layer_library(${ARGV})
  target_compile_options(${name} PRIVATE -include ${PROJECT_SOURCE_DIR}/cmake/domain_guard.h)
endfunction()
