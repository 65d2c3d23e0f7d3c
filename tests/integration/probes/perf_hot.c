/* A native program for redline's perf test: nearly all of its time is spent in
 * one named function, redline_hot_spin. Runs for argv[1] seconds (default 10). */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

__attribute__((noinline)) unsigned long redline_hot_spin(unsigned long rounds) {
    unsigned long acc = 1;
    for (unsigned long i = 0; i < rounds; i++) {
        acc = acc * 6364136223846793005UL + i;
    }
    return acc;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double end = now_s() + (argc > 1 ? atof(argv[1]) : 10.0);
    while (now_s() < end) {
        sink += redline_hot_spin(1000000);
    }
    return 0;
}
