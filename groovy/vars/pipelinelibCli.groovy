import io.pipelinelib.Args

/**
 * Runs `pipelinelib ARGS...` with every argument passed in its own environment variable.
 * The shell text is a constant of the argument count (pipelinelib "$PL_ARG_0" "$PL_ARG_1" ...),
 * so no value is ever parsed by the shell.
 *
 *   pipelinelibCli(['status', '--json'], returnStdout: true)
 */
def call(List args) {
    return call([:], args)
}

def call(Map opts, List args) {
    List<String> argv = []
    for (Object arg : args) {
        String problem = Args.problemWithText(arg, 'pipelinelib argument')
        if (problem != null) {
            error("pipelinelib: ${problem}")
        }
        argv << arg.toString()
    }
    def result = null
    withEnv(Args.envEntries(argv)) {
        result = sh(script: Args.shellCommand(argv.size()), returnStdout: opts.returnStdout ? true : false)
    }
    return result
}
