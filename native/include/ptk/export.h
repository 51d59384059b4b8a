/* Symbol visibility of the ptk C ABI. */
#ifndef PTK_EXPORT_H
#define PTK_EXPORT_H
#if defined(_WIN32)
#define PTK_API __declspec(dllexport)
#else
#define PTK_API __attribute__((visibility("default")))
#endif
#endif
