/* fuzz_cli.c: the command-line parser and every command's flag validation, on an argv built
 * from the input (arguments separated by NUL bytes). host/main.c is included with
 * GANCL_CLI_EXIT jumping back here instead of exiting; no command runs, no file is touched.
 * Run with -close_fd_mask=3: usage errors and --help print on every other input. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>

static jmp_buf cli_jump;
#define GANCL_CLI_EXIT(status) longjmp(cli_jump, 1 + (status))
#define main gancl_main_not_fuzzed
#include "../../host/main.c"
#undef main

#define MAX_ARGS 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1), *argv[MAX_ARGS + 2];
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    int argc = 0;
    argv[argc++] = "gan-cl";
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i += strlen(text + i) + 1) argv[argc++] = text + i;
    argv[argc] = NULL;
    int status = setjmp(cli_jump);
    if (status == 0) {
        cli c = parse(argc, argv);
        switch (c.cmd) {
        case CMD_TRAIN: (void)train_args(&c); break;
        case CMD_BENCH:
        case CMD_TUNE: (void)bench_args(&c); break;
        case CMD_SCORE: (void)score_args(&c); break;
        case CMD_GENERATE: (void)generate_args(&c); break;
        default: break; /* the other commands take no values beyond what parse checks */
        }
    } else if (status != 1 + 0 && status != 1 + 2) {
        abort(); /* the parser leaves only through --help or a usage error */
    }
    free(text);
    return 0;
}
