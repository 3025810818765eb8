# terraform test of the provider-less module: which image each service runs, and the checks that
# stop a plan before any AWS call. Run by tests/integration/test_terraform_modules.py.

variables {
  log_group_prefix   = "/ecs/appcluster-test"
  region             = "ap-southeast-2"
  common_environment = { ENVIRONMENT = "test" }
  services = {
    service1 = {
      image_repository = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1"
      cpu              = 256
      memory           = 512
      container_port   = 8080
      path_pattern     = "/*"
      priority         = 100
    }
    order-api = {
      image_repository = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api"
      cpu              = 128
      memory           = 256
      container_port   = 8081
      path_pattern     = "/orders*"
      priority         = 10
    }
  }
  service_builds = { service1 = "90", order-api = "7" }
}

run "digest_wins_over_the_tag" {
  command = apply

  variables {
    service_images = {
      service1  = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
      order-api = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api:7"
    }
  }

  assert {
    condition     = jsondecode(output.container_definitions["service1"])[0].image == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    error_message = "an image by digest is rendered exactly"
  }

  assert {
    condition     = jsondecode(output.container_definitions["order-api"])[0].image == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api:7"
    error_message = "an image by tag is rendered exactly"
  }

  assert {
    condition     = output.image_tags == { service1 = "90", order-api = "7" }
    error_message = "the builds stay reported beside the images"
  }
}

run "builds_alone_render_repository_and_tag" {
  command = apply

  assert {
    condition     = output.images == { service1 = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1:90", order-api = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api:7" }
    error_message = "without imported images the configured repository is used at the build"
  }

  assert {
    condition     = jsondecode(output.container_definitions["service1"])[0].secrets == [] && jsondecode(output.container_definitions["service1"])[0].readonlyRootFilesystem
    error_message = "defaults: no secrets, read-only root"
  }
}

run "default_build_fills_the_gaps" {
  command = apply

  variables {
    service_builds = { service1 = "90" }
    default_build  = "latest"
  }

  assert {
    condition     = output.images["order-api"] == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api:latest"
    error_message = "default_build is the tag of a service without an imported build"
  }
}

run "missing_build_fails_the_plan" {
  command = plan

  variables {
    service_builds = { service1 = "90" }
  }

  expect_failures = [output.container_definitions]
}

run "image_from_another_repository_is_refused" {
  command = plan

  variables {
    service_images = {
      service1 = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/other@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    }
  }

  expect_failures = [output.container_definitions]
}

run "malformed_image_is_refused" {
  command = plan

  variables {
    service_images = { service1 = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1@sha256:short" }
  }

  expect_failures = [var.service_images]
}

run "malformed_build_is_refused" {
  command = plan

  variables {
    service_builds = { service1 = "9 0; rm", order-api = "7" }
  }

  expect_failures = [var.service_builds]
}
