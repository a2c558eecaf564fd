# `corral submit` option parsing: one Boost.Program_options table for flags and directives.
add_library(corral_job_options STATIC
  ${CMAKE_CURRENT_LIST_DIR}/job_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/option_values.cc
  ${CMAKE_CURRENT_LIST_DIR}/directives.cc
  ${CMAKE_CURRENT_LIST_DIR}/array_spec.cc)
target_link_libraries(corral_job_options PUBLIC corral_common Boost::program_options)
