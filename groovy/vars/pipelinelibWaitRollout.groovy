import io.pipelinelib.Args

/**
 * wait-rollout: follows each changed ECS service until its deployment COMPLETED; fails on FAILED,
 * a circuit-breaker rollback or the timeout, naming the service and its last events.
 *
 *   pipelinelibWaitRollout(cluster: 'appcluster-test', services: ['service1', 'service2'], timeout: '15m')
 */
def call(Map args = [:]) {
    List services = args.services ?: []
    String problem = Args.problemWithPattern(args.cluster, Args.CLUSTER_PATTERN, 'cluster name')
    for (Object service : services) {
        problem = problem ?: Args.problemWithService(service)
    }
    if (problem == null && args.timeout != null) {
        problem = Args.problemWithDuration(args.timeout)
    }
    if (problem != null) {
        error("pipelinelibWaitRollout: ${problem}")
    }
    List<String> argv = ['wait-rollout', "--cluster=${args.cluster}".toString()]
    services.each { argv << "--service=${it}".toString() }
    if (args.timeout != null) {
        argv << "--timeout=${args.timeout}".toString()
    }
    if (args.output != null) {
        // The outcome goes to a file, written on failure too, that pipelinelibRecordDeployment
        // (rollout: ...) records: a rolled-back deployment reaches the ledger's history.
        String problemWithOutput = Args.problemWithPattern(args.output, Args.RELATIVE_DIR_PATTERN, 'output file')
        if (problemWithOutput != null) {
            error("pipelinelibWaitRollout: ${problemWithOutput}")
        }
        // Empty it first: a file left by an earlier build must never be recorded as this one's.
        writeFile(file: args.output, text: '')
        argv << "--output=${args.output}".toString()
    }
    pipelinelibCli(argv)
    return args.output
}
