/* lseek(-1, VALUE, WHENCE) for each WHENCE:VALUE argument (fails fast with EBADF). */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *colon = strchr(argv[i], ':');
        long whence = colon ? strtol(argv[i], NULL, 10) : 0;
        long long value = strtoll(colon ? colon + 1 : argv[i], NULL, 0);
        syscall(SYS_lseek, -1, value, whence);
    }
    return 0;
}
