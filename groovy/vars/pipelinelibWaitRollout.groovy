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
        problem = Args.problemWithPattern(args.timeout.toString(), Args.TIMEOUT_PATTERN, 'timeout')
    }
    if (problem != null) {
        error("pipelinelibWaitRollout: ${problem}")
    }
    List<String> argv = ['wait-rollout', "--cluster=${args.cluster}".toString()]
    services.each { argv << "--service=${it}".toString() }
    if (args.timeout != null) {
        argv << "--timeout=${args.timeout}".toString()
    }
    if (args.output == null) {
        pipelinelibCli(argv)
        return null
    }
    // --json: the outcome goes to a file that pipelinelibRecordDeployment(rollout: ...) records.
    String problemWithOutput = Args.problemWithPattern(args.output, Args.RELATIVE_DIR_PATTERN, 'output file')
    if (problemWithOutput != null) {
        error("pipelinelibWaitRollout: ${problemWithOutput}")
    }
    argv << '--json'
    String outcome = pipelinelibCli([returnStdout: true], argv)
    writeFile(file: args.output, text: outcome)
    return args.output
}
