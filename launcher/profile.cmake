# Node profiling (hwloc + --gpus lists); included from launcher/CMakeLists.txt.
add_library(corral_profile STATIC ${CMAKE_CURRENT_LIST_DIR}/profile.cc
                                  ${CMAKE_CURRENT_LIST_DIR}/gpu_spec.cc)
target_link_libraries(corral_profile PUBLIC corral_common PRIVATE PkgConfig::HWLOC
                                                                  ${CMAKE_DL_LIBS})
