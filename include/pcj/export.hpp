// PCJ_EXPORT marks what the shared library exports. The library is built with hidden symbols
// by default (meson's gnu_symbol_visibility), so only entities carrying this mark are visible to
// applications; everything under pcj::detail and the layers in lib/ stays internal.
#pragma once

#if defined(PCJ_STATIC)
#define PCJ_EXPORT
#elif defined(__GNUC__) || defined(__clang__)
#define PCJ_EXPORT __attribute__((visibility("default")))
#else
#define PCJ_EXPORT
#endif
