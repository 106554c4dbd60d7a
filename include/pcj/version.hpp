// Version of the pcj library.
#pragma once

#define PCJ_VERSION_MAJOR 0
#define PCJ_VERSION_MINOR 1
#define PCJ_VERSION_PATCH 0
#define PCJ_VERSION_STRING "0.1.0"
