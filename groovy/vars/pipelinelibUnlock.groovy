import io.pipelinelib.Args

/**
 * unlock: releases the environment lock this build took with pipelinelibLock.
 *
 *   pipelinelibUnlock(environment: 'live')
 */
def call(Map args = [:]) {
    String problem = Args.problemWithPattern(args.environment, Args.SERVICE_PATTERN, 'environment name')
    if (problem != null) {
        error("pipelinelibUnlock: ${problem}")
    }
    pipelinelibCli(['unlock', args.environment.toString()])
}
