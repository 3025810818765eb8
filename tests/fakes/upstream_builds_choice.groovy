// Stand-in for groovy/choices/upstream-builds.groovy (the Extensible Choice script of issue 4),
// used by tests/integration/test_jenkins_jobs.py only while that file is absent from the tree,
// so the job definitions can be rendered. It reads the same bindings the real script does.
return ["${upstreamJob}: ${serviceUrl} ${limit} ${timeoutMs}".toString()]
