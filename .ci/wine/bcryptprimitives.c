/* Stub bcryptprimitives.dll for Wine < 9 (Debian 12 ships Wine 8.0), which
 * lacks it: the Go runtime (>= 1.22) loads ProcessPrng from it at start-up and
 * aborts without it. Randomness comes from Wine's own bcrypt.dll.
 *   x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt
 * then copy it into the Wine prefix's system32 (the runtime loads it with
 * LOAD_LIBRARY_SEARCH_SYSTEM32, so next to the exe does not help). */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
