/*
 * banned.h - libc calls that have no place in vmdkit (unbounded copies,
 * hidden state, silent overflow).  Included last by every project source.
 */
#ifndef VMDKIT_BANNED_H
#define VMDKIT_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_vmdkit

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef sscanf
#define sscanf(...) BANNED(sscanf)

#endif
