package com.cloudbees.groovy.cps

import java.lang.annotation.ElementType
import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy
import java.lang.annotation.Target

/**
 * Compile-time stub of com.cloudbees.groovy.cps.NonCPS (groovy-cps, lib/src/main/java/com/
 * cloudbees/groovy/cps/NonCPS.java: @Retention(RUNTIME) @Target(METHOD)), so CodeNarc's Jenkins
 * rules can resolve the annotation. Never on a controller's class path.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target([ElementType.METHOD])
@interface NonCPS {
}
